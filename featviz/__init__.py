"""featviz: watch gradient descent learn features (Zhou & Ge, NeurIPS 2024)."""
