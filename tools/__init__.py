"""Developer tools for source-twilio (not shipped in the package)."""
