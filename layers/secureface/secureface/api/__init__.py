"""HTTP edge shared by every Lambda function: the route table and the error mapping."""
