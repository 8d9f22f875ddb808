"""Segments on the store: definitions (:mod:`.library`), the build step (:mod:`.run`) and the
reports (:mod:`.reports`): the application side of :mod:`personae.segments`."""
