"""Media gallery: base64 and MIME checks, ids as strings, PUT re-creates, gallery replace semantics."""

from __future__ import annotations

import base64
import hashlib

from sandbox.magento.testing import SandboxClient, image_entry, simple_product, tiny_jpeg


def seed(client: SandboxClient) -> None:
    client.post("/V1/products", json={"product": simple_product("TEE-1", "Crew Tee", 10)})


def gallery(client: SandboxClient) -> list[dict]:
    return client.get("/V1/products/TEE-1/media").json()


def test_given_image_then_entry_id_is_a_string_and_file_dispersed(sandbox_client, magento_sandbox) -> None:
    seed(sandbox_client)
    response = sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("tee.png")})
    assert response.status_code == 200
    entry_id = response.json()
    assert isinstance(entry_id, str) and entry_id.isdigit()
    entries = gallery(sandbox_client)
    assert entries == [
        {
            "id": int(entry_id),
            "media_type": "image",
            "label": "Tee",
            "position": 1,
            "disabled": False,
            "types": ["image", "small_image", "thumbnail"],
            "file": "/t/e/tee.png",
        }
    ]
    second = sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("tee.png", types=[])})
    assert gallery(sandbox_client)[1]["file"] == "/t/e/tee_1.png"
    assert sandbox_client.get(f"/V1/products/TEE-1/media/{second.json()}").json()["file"] == "/t/e/tee_1.png"
    stored = magento_sandbox.store.product_by_sku("TEE-1").media[0]
    assert (
        stored.sha256
        == hashlib.sha256(base64.b64decode(image_entry()["content"]["base64_encoded_data"])).hexdigest()
    )


def test_given_roles_then_one_entry_holds_each_role(sandbox_client) -> None:
    seed(sandbox_client)
    sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("a.png")})
    sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("b.png", types=["thumbnail"])})
    by_file = {e["file"]: e["types"] for e in gallery(sandbox_client)}
    assert by_file == {"/a/_/a.png": ["image", "small_image"], "/b/_/b.png": ["thumbnail"]}
    product = sandbox_client.get("/V1/products/TEE-1").json()
    attrs = {a["attribute_code"]: a["value"] for a in product["custom_attributes"]}
    assert (attrs["image"], attrs["thumbnail"]) == ("/a/_/a.png", "/b/_/b.png")


def test_given_bad_content_then_magento_validation_messages(sandbox_client) -> None:
    seed(sandbox_client)
    cases = [
        (
            {"base64_encoded_data": "***", "type": "image/png", "name": "x.png"},
            "The image content must be valid base64 encoded data.",
        ),
        (
            {
                "base64_encoded_data": base64.b64encode(b"just text").decode(),
                "type": "image/png",
                "name": "x.png",
            },
            "The image content must be valid base64 encoded data.",
        ),
        (
            {
                "base64_encoded_data": base64.b64encode(tiny_jpeg()).decode(),
                "type": "image/png",
                "name": "x.png",
            },
            "The image MIME type is not valid or not supported.",
        ),
        (
            {
                "base64_encoded_data": base64.b64encode(tiny_jpeg()).decode(),
                "type": "image/jpg",
                "name": "x.jpg",
            },
            "The image MIME type is not valid or not supported.",
        ),
        (
            {
                "base64_encoded_data": base64.b64encode(tiny_jpeg()).decode(),
                "type": "image/jpeg",
                "name": "a/b.jpg",
            },
            "Provided image name contains forbidden characters.",
        ),
    ]
    for content, message in cases:
        entry = {**image_entry(), "content": content}
        response = sandbox_client.post("/V1/products/TEE-1/media", json={"entry": entry})
        assert (response.status_code, response.json()) == (400, {"message": message})
    assert gallery(sandbox_client) == []


def test_given_jpeg_with_jpeg_mime_then_accepted(sandbox_client) -> None:
    seed(sandbox_client)
    entry = image_entry("photo", data=tiny_jpeg(), mime="image/jpeg")
    assert sandbox_client.post("/V1/products/TEE-1/media", json={"entry": entry}).status_code == 200
    assert gallery(sandbox_client)[0]["file"] == "/p/h/photo.jpg"


def test_given_put_then_entry_replaced_under_a_new_id(sandbox_client) -> None:
    seed(sandbox_client)
    old_id = int(sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry()}).json())
    response = sandbox_client.put(
        f"/V1/products/TEE-1/media/{old_id}", json={"entry": {**image_entry(), "label": "New"}}
    )
    assert response.json() is True
    entries = gallery(sandbox_client)
    assert len(entries) == 1
    assert entries[0]["id"] != old_id
    assert entries[0]["label"] == "New"
    assert sandbox_client.get(f"/V1/products/TEE-1/media/{old_id}").status_code == 404


def test_given_delete_then_gone_and_unknown_id_404(sandbox_client) -> None:
    seed(sandbox_client)
    entry_id = sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry()}).json()
    assert sandbox_client.delete(f"/V1/products/TEE-1/media/{entry_id}").json() is True
    missing = sandbox_client.delete(f"/V1/products/TEE-1/media/{entry_id}")
    assert (missing.status_code, missing.json()) == (
        404,
        {"message": "The image doesn't exist. Verify and try again."},
    )


def test_given_gallery_in_product_save_then_it_replaces_and_omitting_keeps(sandbox_client) -> None:
    seed(sandbox_client)
    first = int(sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("a.png")}).json())
    sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("b.png", types=[])})
    # omitting media_gallery_entries leaves the gallery alone
    sandbox_client.put("/V1/products/TEE-1", json={"product": {"sku": "TEE-1", "price": 12}})
    assert len(gallery(sandbox_client)) == 2
    # sending one entry keeps only that one (plus new ones with content)
    keep = {
        "id": first,
        "media_type": "image",
        "label": "Kept",
        "position": 1,
        "disabled": False,
        "types": ["image"],
    }
    body = {"product": {"sku": "TEE-1", "media_gallery_entries": [keep, image_entry("c.png", types=[])]}}
    product = sandbox_client.put("/V1/products/TEE-1", json=body).json()
    assert [e["file"] for e in product["media_gallery_entries"]] == ["/a/_/a.png", "/c/_/c.png"]
    assert product["media_gallery_entries"][0]["label"] == "Kept"
    # an empty list removes every image
    sandbox_client.put("/V1/products/TEE-1", json={"product": {"sku": "TEE-1", "media_gallery_entries": []}})
    assert gallery(sandbox_client) == []


def test_given_unknown_product_then_404(sandbox_client) -> None:
    response = sandbox_client.post("/V1/products/NOPE/media", json={"entry": image_entry()})
    assert response.status_code == 404


def test_given_the_same_file_name_again_then_next_free_suffix(magento_sandbox) -> None:
    store = magento_sandbox.store
    assert [store.claim_media_file("tee.png") for _ in range(3)] == [
        "/t/e/tee.png",
        "/t/e/tee_1.png",
        "/t/e/tee_2.png",
    ]
    assert store.claim_media_file("tee_3.png") == "/t/e/tee_3.png"  # a name that looks like a suffix
    assert store.claim_media_file("tee.png") == "/t/e/tee_4.png"
    assert store.claim_media_file("Tee.png") == "/t/e/Tee.png"
