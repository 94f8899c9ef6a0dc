"""Every table, imported here so Base.metadata knows them all."""

from lse.store.models.archive import *  # noqa: F403 -- the package re-exports every model (each module has __all__)
from lse.store.models.batches import *  # noqa: F403 -- the package re-exports every model (each module has __all__)
from lse.store.models.evaluation import *  # noqa: F403 -- the package re-exports every model (each module has __all__)
