"""The Terraform provider (``tf`` framework, plugin protocol 6) over the local cloud store."""
