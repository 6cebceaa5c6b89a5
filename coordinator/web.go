package coordinator

import "net/http"

// webRoutes adds the read-only web view.
func (s *server) webRoutes(mux *http.ServeMux) {
}
