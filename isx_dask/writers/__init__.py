"""Writers: one module per data set type, each with a bulk ``write_*`` function and the incremental class."""

from .movie import Image, Movie, write_image, write_movie
from .cell_set import CellSet, write_cell_set
from .vessel_set import VesselSet, write_vessel_set
from .event_set import EventSet, write_event_set, write_event_set_dense

__all__ = ["Image", "Movie", "write_image", "write_movie"]
__all__ += ["CellSet", "write_cell_set"]
__all__ += ["VesselSet", "write_vessel_set"]
__all__ += ["EventSet", "write_event_set", "write_event_set_dense"]
