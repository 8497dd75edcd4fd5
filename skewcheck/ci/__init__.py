"""What skewcheck's CI integrations run: the GitHub Action's step (github_action.py)."""
