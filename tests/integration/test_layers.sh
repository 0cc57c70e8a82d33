#!/bin/sh
# The layering table (src/LAYERS): no folder of src/ includes a header of a
# folder it may not depend on.
exec "$HH_ROOT/scripts/check_layers.sh"
