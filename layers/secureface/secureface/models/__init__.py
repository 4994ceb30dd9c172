"""The published model set: the catalog, the signed manifest, publishing."""
