"""The guide app (Kivy); built in its own issue."""
