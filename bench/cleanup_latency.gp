# Plots session_get latency over time while pgsession's cleanup runs, next to the
# connect-pg-simple read while its one unbounded DELETE runs (figure 5, last round).
# bench.py passes: results (directory), end_pgsession and end_delete (seconds the two
# cleanups took).  Time 0 is the start of each cleanup.
set terminal pngcairo size 1000,560 font ",10"
set output results.'/cleanup_latency.png'
set title "Read latency while expired sessions are removed (p99 per 250 ms)"
set xlabel "seconds since the cleanup started"
set ylabel "latency (ms)"
set logscale y
set grid
set key top left
set arrow 1 from end_pgsession, graph 0 to end_pgsession, graph 1 nohead lc rgb "#1f77b4" dt 2
set arrow 2 from end_delete, graph 0 to end_delete, graph 1 nohead lc rgb "#d62728" dt 2
set arrow 3 from 0, graph 0 to 0, graph 1 nohead lc rgb "#555555" dt 3
plot results.'/cleanup_latency_pgsession.dat' using 1:2 with lines lw 2 lc rgb "#1f77b4" \
         title "session\\_get p99, during session\\_cleanup\\_in\\_batches (ends at dashed blue)", \
     results.'/cleanup_latency_delete.dat' using 1:2 with lines lw 2 lc rgb "#d62728" \
         title "connect-pg-simple SELECT p99, during one DELETE (ends at dashed red)"
