"""The torch side: build a spec as an nn.Module, count it with fvcore and torch, reconcile the counts. The only layer, with bench, that imports torch."""
