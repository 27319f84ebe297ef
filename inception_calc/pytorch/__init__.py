"""The torch side: build a spec as an nn.Module, count it with fvcore and torch, reconcile the counts.

With bench, the only layer that imports torch (inside functions).
"""
