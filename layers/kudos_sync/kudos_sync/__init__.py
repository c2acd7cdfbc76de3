"""Kudos Cloud Interaction for Magento 2: the shared sync library (Lambda layer)."""
