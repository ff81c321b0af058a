Console.WriteLine("flannel");
return 0;
