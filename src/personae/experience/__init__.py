"""Experience analytics: metrics, survey sampling, segment validation, detractors, pain points.

Domain package: pure NumPy/SciPy/scikit-learn and Ibis expressions, no I/O. The application
glue that reads the store is :mod:`personae.app.experience`.
"""
