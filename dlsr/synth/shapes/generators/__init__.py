"""One module per category: each draws its parameters, then builds its parts (see `dlsr.synth.shapes.registry`)."""
