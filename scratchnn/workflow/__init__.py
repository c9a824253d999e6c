"""The tutorial workflow built on the engine: preprocessing recipes, data statistics, the
learning-rate finder, evaluation reports, plots and turning your own digit images into MNIST
input.  The command line (``scratchnn.cli``) is a thin layer of argparse and printing on top."""
