"""Date formats where Django's own are wrong for a language we publish in (FORMAT_MODULE_PATH)."""
