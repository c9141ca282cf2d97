"""Writers: one module per data set type, each with a bulk ``write_*`` function and the incremental class."""

from .cell_set import CellSet, write_cell_set
from .event_set import EventSet, write_event_set, write_event_set_dense
from .movie import Image, Movie, write_image, write_movie
from .vessel_set import VesselSet, write_vessel_set

__all__ = [
    "CellSet",
    "EventSet",
    "Image",
    "Movie",
    "VesselSet",
    "write_cell_set",
    "write_event_set",
    "write_event_set_dense",
    "write_image",
    "write_movie",
    "write_vessel_set",
]
