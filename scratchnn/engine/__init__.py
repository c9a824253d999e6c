"""The engine: what runs the math.

``model`` (``Sequential``: build, compile, evaluate, predict, weights), ``head`` (the last layer
with the loss, chosen by ``compile``), ``training`` (the ``fit`` loop as a generator of optimizer
steps), ``callbacks``, ``saving`` and ``model_file`` (the ``.npz`` model format), and ``perf``
(the one seam for speed tricks).  The engine imports the
math (``scratchnn.layers``, ``losses``, ``optimizers``, ...), never the other way round.
"""
