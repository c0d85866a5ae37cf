"""The learned foreground segmenter: a tiny U-Net trained on renders composited over backgrounds.

`model` the network, `data` the composites it learns from, `train` the training run, `predict` the mask of a
photo (`learned_mask`, the contract of `dlsr.segment.grabcut_mask`). torch is imported only by `model`, `train`
and inside `predict`'s functions, so `import dlsr.cli` stays light.
"""
