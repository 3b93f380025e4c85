"""PyTorch example scripts ported by changing their import lines (see ``harness``)."""
