"""Packages: which package databases each layer holds, what each package weighs, what is reached."""
