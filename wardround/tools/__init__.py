"""Tools that agents call: clinical calculators and MONAI segmentation. Tools import only leaf modules."""
