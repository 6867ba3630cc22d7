"""Prompt templates (jinja2). Installed as the package ``summarizer.prompts``."""
