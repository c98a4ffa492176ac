package edged

// refuseFormat logs, once per source and reason, a push of a playlist form
// lmx does not carry (ffmpeg repeats the push every segment; the operator
// needs the line once, and again only when the reason changes).
func (e *Edge) refuseFormat(source string, err error) {
	msg := err.Error()
	e.mu.Lock()
	if e.refusedFormat == nil {
		e.refusedFormat = map[string]string{}
	}
	seen := e.refusedFormat[source] == msg
	e.refusedFormat[source] = msg
	e.mu.Unlock()
	if !seen {
		e.logger.Warn("push refused: playlist form not carried", "source", source, "err", msg)
	}
}
