"""Policy files: `default.toml` is what an empty store records as its first policy version."""
