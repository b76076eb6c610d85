COPY {schema}.{partition} ({columns}) FROM STDIN (FORMAT binary);
