"""video-SALMONN 2 in plain PyTorch, keyed to the released checkpoint's weight names.

Modules follow docs PIPELINE.md (§1-§5). Nothing here imports transformers/safetensors.
"""
