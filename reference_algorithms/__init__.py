"""Reference training algorithms: each directory is a valid submission."""
