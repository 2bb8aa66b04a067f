"""coproff-platform: CoproFF, the national referential of copropriétés, rebuilt per millésime."""
