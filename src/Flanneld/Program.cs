Console.WriteLine("flanneld");
return 0;
