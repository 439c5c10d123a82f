"""Small, dependency-free helpers shared by every Kiungo app."""
