# ms/query against N (k = 10, 768-d, one thread), from bebr_bench's plot.dat.
#   gnuplot -e "data='plot.dat'; out='ms-per-query.png'" bench/plot.gp
set terminal pngcairo size 800,520 font ",11"
set output out
set logscale xy
set xlabel "vectors (N)"
set ylabel "ms per query (k = 10)"
set title "Exact binary kNN through SQL, 768-d, one thread"
set key top left
set grid
plot data using 1:3 with linespoints lw 2 title "sqlite-vec bit[768] (npm 0.1.9)", \
     data using 1:4 with linespoints lw 2 title "FAISS IndexBinaryFlat (Debian 1.7.3)", \
     data using 1:2 with linespoints lw 2 title "bebr bits=1", \
     data using 1:5 with lines dt 2 lw 2 title "memory-bandwidth floor"
