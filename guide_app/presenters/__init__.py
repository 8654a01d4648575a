"""Screen state and logic in plain Python (no Kivy): tested against a real server."""
