-- The scratch database goes as soon as the sample is timed.
DROP DATABASE IF EXISTS {{scratch}} SYNC
