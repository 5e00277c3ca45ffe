package memory

// RoomCount returns the number of rooms s holds, expired or not.
func RoomCount(s *RoomStore) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

// WindowCount returns the number of windows l holds, ended or not.
func WindowCount(l *RateLimiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.windows)
}
