"""The web front: a Gradio chat page and a JSON API, served together by ``rag serve``."""
