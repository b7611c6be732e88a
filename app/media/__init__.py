"""The media library: validated image uploads, storage (local folder or S3), the lookups rendering asks for."""
