"""Loaders of a study's inputs: regions, population, facility layers, gazetteers."""
