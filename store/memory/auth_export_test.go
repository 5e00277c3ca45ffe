package memory

// AuthEntryCount returns the number of refresh tokens and codes s holds,
// expired or not.
func AuthEntryCount(s *AuthStore) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens) + len(s.codes)
}
