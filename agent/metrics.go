package agent

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the agent's Prometheus metrics.
func (a *agent) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "barrage_agent_connected",
		Help: "1 while the agent is connected to a coordinator.",
	}, func() float64 {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.connected {
			return 1
		}
		return 0
	}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
