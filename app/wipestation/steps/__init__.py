"""The plan vocabulary and the steps that erase: below both planning and the engine."""
