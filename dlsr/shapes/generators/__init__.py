"""One module per category: each draws an object's parameters and builds its parts (see `dlsr.shapes.registry`)."""
