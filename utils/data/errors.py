"""Errors of the data layer, each with a message that says what to do next."""


class DataError(RuntimeError):
    """A data file exists but cannot be used (corrupt, wrong shape, wrong checksum)."""


class DataNotFoundError(DataError):
    """Real data was required (``COURSE_DATA=real``) but could not be found or downloaded."""
