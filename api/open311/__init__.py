"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/) in front of jiesu's intake and
its public record: other channels file and follow appeals without learning jiesu's own API."""
