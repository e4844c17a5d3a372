"""Data files of the domain package (the intent lexicon), read with importlib.resources."""
