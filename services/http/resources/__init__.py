"""One module per resource of the HTTP contract, each a flask-smorest blueprint."""
