COPY {schema}.zones ({columns}) FROM STDIN (FORMAT binary);
