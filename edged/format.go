package edged

// refuseFormat logs, once per source and reason, a push refused for its
// form (a playlist form lmx does not carry, an fMP4 playlist whose init
// segment never came): ffmpeg repeats the push every segment; the operator
// needs the line once, and again only when the reason changes. what says
// which in the line.
func (e *Edge) refuseFormat(source, what string, err error) {
	msg := err.Error()
	e.mu.Lock()
	if e.refusedFormat == nil {
		e.refusedFormat = map[string]string{}
	}
	seen := e.refusedFormat[source] == msg
	e.refusedFormat[source] = msg
	e.mu.Unlock()
	if !seen {
		e.logger.Warn("push refused: "+what, "source", source, "err", msg)
	}
}
