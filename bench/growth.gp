# Plots figure 11 (bench/growth.py): throughput as the table grows, each point the median
# over rounds of (tps at that size) / (tps on the baseline table kept at the smallest size,
# measured alternately beside it), bars the lowest and highest round; the dashed lines
# are the targets at the largest size.  growth.py passes: results (directory) and base
# (the baseline's size, e.g. "100k").
set terminal pngcairo size 1000,560 font ",10"
set output results.'/growth.png'
set title "Throughput as the table grows, against the same calls on a ".base." table beside it"
set xlabel "live sessions in pgsession.sessions"
set ylabel "throughput / at ".base." (side by side)"
set logscale x
set format x "%.0s%c"
set offsets graph 0.05, graph 0.05, 0, 0
set yrange [0:1.3]
set grid
set key bottom left
set datafile missing "?"
set arrow 1 from graph 0, first 0.85 to graph 1, first 0.85 nohead lc rgb "#1f77b4" dt 2
set arrow 2 from graph 0, first 0.8 to graph 1, first 0.8 nohead lc rgb "#d62728" dt 2
plot results.'/growth.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" \
         title "session\\_get, 8 clients (target 0.85)", \
     results.'/growth.dat' using 1:6:7:8 with yerrorlines lw 2 pt 5 lc rgb "#17becf" \
         title "session\\_get, 2 clients (target 0.85)", \
     results.'/growth.dat' using 1:10:11:12 with yerrorlines lw 2 pt 9 lc rgb "#d62728" \
         title "session\\_create, 8 clients (target 0.8)", \
     results.'/growth.dat' using 1:14:15:16 with yerrorlines lw 2 pt 11 lc rgb "#2ca02c" \
         title "cleanup rows/s (target 0.8)"
