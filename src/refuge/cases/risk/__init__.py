"""The risk-assessment engine: pure Python over instrument files (no Django import here)."""
